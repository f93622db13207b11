"""A custom obtain serializer as simplejwt's docs show one: extra claims via get_token."""

from keyfob.drf.serializers import TokenObtainPairSerializer


class ClaimsTokenObtainPairSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token["username"] = user.username
        token["roles"] = ["reader"]
        return token
